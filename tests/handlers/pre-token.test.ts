/** Cognito's pre-token trigger (V2_0): a signed-in user's access token gets their groups' API scopes only. */
import type { BasePreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { ROLE_GROUPS, ROLE_SCOPES, SCOPES } from '../../src/api/scopes.js';
import { handler } from '../../src/handlers/pre-token.js';

/** A V2_0 event, as Cognito sends it after a hosted-UI sign-in, for a user in `groups`. */
function event(groups: string[]): BasePreTokenGenerationV2TriggerEvent<string> {
  return {
    version: '2',
    triggerSource: 'TokenGeneration_HostedAuth',
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_Test',
    userName: 'someone',
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'reader' },
    request: {
      userAttributes: { email: 'someone@example.com' },
      groupConfiguration: { groupsToOverride: groups, iamRolesToOverride: [] },
      scopes: ['openid', 'email', SCOPES.read],
    },
    response: { claimsAndScopeOverrideDetails: {} },
  };
}

describe('the pre-token trigger', () => {
  it("adds the admin's scopes to an admin's token, and suppresses none of the API's", async () => {
    const out = await handler(event([ROLE_GROUPS.admin]));
    expect(out.response.claimsAndScopeOverrideDetails.accessTokenGeneration).toEqual({
      scopesToAdd: [...ROLE_SCOPES.admin],
      scopesToSuppress: [],
    });
  });

  it("keeps an analyst's token to read, whatever the client allowed", async () => {
    const out = await handler(event([ROLE_GROUPS.analyst]));
    expect(out.response.claimsAndScopeOverrideDetails.accessTokenGeneration).toEqual({
      scopesToAdd: [SCOPES.read],
      scopesToSuppress: [SCOPES.ingest, SCOPES.admin],
    });
  });

  it('takes every API scope from a user in no group, so their sign-in reads nothing', async () => {
    const out = await handler(event([]));
    expect(out.response.claimsAndScopeOverrideDetails.accessTokenGeneration).toEqual({
      scopesToAdd: [],
      scopesToSuppress: Object.values(SCOPES),
    });
  });
});

import type { BasePreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { accessTokenScopes } from '../api/scopes.js';

type PreTokenEvent = BasePreTokenGenerationV2TriggerEvent<string>;

/**
 * Cognito's pre-token generation trigger, version 2 (resources/auth.yml): a signed-in user's access token
 * carries the API scopes of their groups and no other (src/api/scopes.ts, accessTokenScopes). Cognito
 * does not call it for client-credentials tokens, whose scopes are the app client's.
 * https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
 */
export async function handler(event: PreTokenEvent): Promise<PreTokenEvent> {
  const groups = event.request.groupConfiguration.groupsToOverride ?? [];
  event.response = {
    claimsAndScopeOverrideDetails: { accessTokenGeneration: accessTokenScopes(groups) },
  };
  return event;
}

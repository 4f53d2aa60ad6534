/**
 * A small, hand-checked set of "Online Retail" rows for the streaming-path tests, with the answers the
 * API must give for them.
 */
export const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';

/**
 * Customer 17850: three invoices over two days, all with stock 85123A; 536365 has it on two lines.
 * Totals: 536365 = 15.3 + 20.34 + 5.1 = 40.74; 536366 = 11.1 + 2.55 = 13.65; 536370 = 90 + 7.65 = 97.65.
 */
export const CSV_ROWS = [
  '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom',
  '536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom',
  '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,2,12/1/2010 8:26,2.55,17850,United Kingdom',
  '536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,17850,United Kingdom',
  '536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER,1,12/1/2010 8:28,2.55,17850,United Kingdom',
  '536370,22728,ALARM CLOCK BAKELIKE PINK,24,12/2/2010 9:00,3.75,17850,United Kingdom',
  '536370,85123A,WHITE HANGING HEART T-LIGHT HOLDER,3,12/2/2010 9:00,2.55,17850,United Kingdom',
  // An exact duplicate of the first line: accepted, stored once.
  '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom',
  // Invalid: a quantity that is not an integer.
  '536367,84879,ASSORTED COLOUR BIRD ORNAMENT,6x,12/1/2010 8:34,1.69,13047,United Kingdom',
  // A guest (no CustomerID) and a cancellation.
  '536544,21773,DECORATIVE ROSE BATHROOM BOTTLE,1,12/1/2010 14:32,2.51,,United Kingdom',
  'C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom',
];

export const CSV_BODY = [HEADER, ...CSV_ROWS].join('\r\n') + '\r\n';

/** The same kind of rows as JSON objects (source spelling), for application/json. */
export const JSON_ROWS = [
  {
    InvoiceNo: '536367',
    StockCode: '84879',
    Description: 'ASSORTED COLOUR BIRD ORNAMENT',
    Quantity: 32,
    InvoiceDate: '2010-12-01 08:34:00',
    UnitPrice: 1.69,
    CustomerID: 13047,
    Country: 'United Kingdom',
  },
  {
    InvoiceNo: '536367',
    StockCode: '22745',
    Description: "POPPY'S PLAYHOUSE BEDROOM",
    Quantity: 6,
    InvoiceDate: '2010-12-01 08:34:00',
    UnitPrice: 2.1,
    CustomerID: 13047,
    Country: 'United Kingdom',
  },
  // Missing Quantity and UnitPrice: rejected, naming both.
  { InvoiceNo: '536367', StockCode: '22748', InvoiceDate: '2010-12-01 08:34:00', Country: 'United Kingdom' },
];

/** NDJSON: one line of customer 12583 (France), a blank line, and a line that is not JSON. */
export const NDJSON_BODY = [
  JSON.stringify({
    InvoiceNo: '536370',
    StockCode: '22728',
    Description: 'ALARM CLOCK BAKELIKE PINK',
    Quantity: 24,
    InvoiceDate: '2010-12-02 09:00:00',
    UnitPrice: '3.75',
    CustomerID: '17850',
    Country: 'United Kingdom',
  }),
  '',
  JSON.stringify({
    Invoice: '536371',
    StockCode: '22086',
    Description: "PAPER CHAIN KIT 50'S CHRISTMAS",
    Quantity: 80,
    InvoiceDate: '2010-12-01 09:00:00',
    Price: 2.55,
    'Customer ID': 12583,
    Country: 'France',
  }),
  '{not json',
].join('\n');

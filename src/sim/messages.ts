/** What the simulator says and how it closes sockets, in Polygon's words where they are known. */

export const CLOSE_POLICY = 1008;
export const CLOSE_SLOW_CONSUMER = 1011;

export const MAX_CONNECTIONS_MESSAGE =
  'Maximum number of websocket connections exceeded. You have reached the connection limit for your account. ' +
  'Please contact support at https://polygon.io/contact to increase your limit.';

/** The simulator's wording of the `disconnect` status (Polygon's own text is not documented). */
export const DISCONNECT_MESSAGE = 'Another client connected with the same API key; this connection is closed.';

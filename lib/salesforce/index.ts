// The Salesforce client: what the handlers import.
export {
  type ClientCache,
  createClientCache,
  createSalesforceClient,
  type SalesforceClientOptions,
} from './client.ts';
export { checkedUrl, parseCredentials } from './credentials.ts';
export {
  AuthenticationError,
  CredentialsError,
  DailyApiLimitError,
  DeadlineExceededError,
  InsecureUrlError,
  isOrgWide,
  ResponseLostError,
  SalesforceApiError,
  SalesforceClientError,
  SalesforceUnavailableError,
  SessionRejectedError,
  StageAbortedError,
  UnexpectedResponseError,
} from './errors.ts';
export { soqlString } from './external-ids.ts';
export { jwtAudience } from './jwt.ts';
export type { SalesforceLogger } from './redact.ts';
export { runStage } from './stage.ts';
export type * from './types.ts';

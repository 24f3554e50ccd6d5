// The Salesforce client: what the handlers import.
export {
  type ClientCache,
  createClientCache,
  createSalesforceClient,
  type SalesforceClientOptions,
} from './client.ts';
export { checkedUrl, parseCredentials } from './credentials.ts';
export {
  ApiDisabledError,
  AuthenticationError,
  ConcurrencyLimitError,
  CredentialsError,
  CredentialsNotSetError,
  DailyApiLimitError,
  DeadlineExceededError,
  InsecureUrlError,
  isOrgWide,
  LoginAnswerError,
  MaintenanceError,
  ORG_WIDE_RECORD_CODES,
  type OrgCondition,
  type OrgConditionReason,
  orgConditionOf,
  ResponseLostError,
  SalesforceApiError,
  SalesforceClientError,
  SalesforceUnavailableError,
  SessionRejectedError,
  StageAbortedError,
  UnexpectedResponseError,
  UnreachableError,
} from './errors.ts';
export { soqlString } from './external-ids.ts';
export { jwtAudience } from './jwt.ts';
export type { SalesforceLogger } from './redact.ts';
export { runStage } from './stage.ts';
export type * from './types.ts';

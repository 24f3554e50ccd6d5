// The Step Functions definition that follows one Bulk API 2.0 job to its end. Built in code so the CDK
// stack and the local runtime (aws-local-stepfunctions) run the same states. JSONPath only: the local
// runner ignores JSONata.
//
//   Wait (input.waitSeconds) → Poll (poller Lambda) → Finished? ── no ─→ Wait (interval grown by the poller)
//                                                       └─ yes → Done
//   Poll failing after its retries → PublishFailure (poller in `fail` mode: every record not yet
//   reported gets a failed outcome) → Failed

/** What the sink passes to StartExecution and the poller passes back to the next Wait. */
export interface BulkExecutionInput {
  /** The job store key of the bulk unit. */
  unitKey: string;
  jobId: string;
  /** Seconds to wait before the next check. */
  waitSeconds: number;
  /** When the job was submitted (ISO): the poller gives up past Salesforce's job lifetime. */
  submittedAt: string;
  done?: boolean;
  /** Set by the poller's `fail` mode after a task failure. */
  mode?: 'poll' | 'fail';
  /** When done: the job's final state and the outcomes published in this run (for metrics). */
  result?: { jobState: string; sobject: string; succeeded: number; failed: number };
}

/** Salesforce keeps ingest jobs 7 days; past that there is nothing left to poll. */
export const JOB_LIFETIME_SECONDS = 7 * 24 * 3600;

export const STATE_NAMES = {
  wait: 'WaitForJob',
  poll: 'PollJob',
  choice: 'JobFinished',
  fail: 'PublishFailure',
} as const;

/**
 * The Amazon States Language definition of the bulk job poller.
 *
 * @example
 * const definition = bulkStateMachineDefinition({ pollerFunctionArn: fn.functionArn });
 */
export function bulkStateMachineDefinition(options: { pollerFunctionArn: string }): Record<string, unknown> {
  const retry = [
    {
      ErrorEquals: [
        'Lambda.ServiceException',
        'Lambda.AWSLambdaException',
        'Lambda.SdkClientException',
        'Lambda.TooManyRequestsException',
      ],
      IntervalSeconds: 2,
      MaxAttempts: 6,
      BackoffRate: 2,
    },
    {
      ErrorEquals: ['States.ALL'],
      IntervalSeconds: 10,
      MaxAttempts: 8,
      BackoffRate: 2,
      MaxDelaySeconds: 300,
    },
  ];
  return {
    Comment: 'sfsink: follow one Bulk API 2.0 ingest job until it ends, then publish one outcome per record',
    StartAt: STATE_NAMES.wait,
    TimeoutSeconds: JOB_LIFETIME_SECONDS + 3600,
    States: {
      [STATE_NAMES.wait]: { Type: 'Wait', SecondsPath: '$.waitSeconds', Next: STATE_NAMES.poll },
      [STATE_NAMES.poll]: {
        Type: 'Task',
        Resource: options.pollerFunctionArn,
        Retry: retry,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE_NAMES.fail }],
        Next: STATE_NAMES.choice,
      },
      [STATE_NAMES.choice]: {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.done', IsPresent: true },
              { Variable: '$.done', BooleanEquals: true },
            ],
            Next: 'Done',
          },
        ],
        Default: STATE_NAMES.wait,
      },
      [STATE_NAMES.fail]: {
        Type: 'Task',
        Resource: options.pollerFunctionArn,
        Parameters: {
          'unitKey.$': '$.unitKey',
          'jobId.$': '$.jobId',
          'submittedAt.$': '$.submittedAt',
          waitSeconds: 0,
          mode: 'fail',
        },
        Retry: retry,
        Next: 'Failed',
      },
      Done: { Type: 'Succeed' },
      Failed: {
        Type: 'Fail',
        Error: 'BulkJobPollingFailed',
        Cause: 'The poller kept failing; every unreported record got a failed outcome.',
      },
    },
  };
}

// The Step Functions definition that follows one bulk unit's Bulk API 2.0 job to its end. Built in code so
// the CDK stack and the local runtime (aws-local-stepfunctions) run the same states. JSONPath only: the
// local runner ignores JSONata.
//
//   WaitForJob (input.waitSeconds) → PollJob (poller) → JobFinished? ── done ──────→ Done
//                                                              ├── stopped ───→ Stopped (Fail)
//                                                              ├── handOver ──→ HandOver (StartExecution) → Done
//                                                              └── else ──────→ WaitForJob
//   PollJob / HandOver failing after their retries → RecordFailure (poller: records the failure on the
//   unit, backs off) → JobFinished?; RecordFailure failing too → Failed.
//
// Every state is covered: whatever fails is either retried, caught and recorded on the unit, or ends the
// execution, which the sink notices (the unit is not done, its execution is closed) and replaces with a
// successor. No execution outlives its history: after POLLS_PER_EXECUTION rounds the poller hands the
// unit to a successor (continue-as-new, named `<jobId>-<n>`). One round costs 9 events (Wait 2, Task 5,
// Choice 2); in the worst case, every task retried 8 times (3 events each) and then recorded as a failure,
// about 62 — 250 rounds stay below 16,000 of the 25,000 events an execution may have.

/** What the sink passes to StartExecution and the poller passes on to the next state. */
export interface BulkExecutionInput {
  /** The job store key of the bulk unit followed. */
  unitKey: string;
  jobId: string;
  /** This execution's name (absent: the first one, named after the job). */
  execution?: string;
  /** Seconds to wait before the next check. */
  waitSeconds: number;
  /** When the unit was recorded (ISO): past Salesforce's job lifetime a job still running is aborted. */
  submittedAt: string;
  /** Rounds (polls and recorded failures) this execution has made. */
  polls?: number;
  /** Failures recorded in a row: the wait grows with them, and past a limit the execution stops. */
  failures?: number;
  done?: boolean;
  /** The poller kept failing: the execution ends Failed (the sink starts a successor). */
  stopped?: boolean;
  /** The successor to start (continue-as-new), set when this execution's rounds are spent. */
  handOver?: { name: string; input: BulkExecutionInput };
  /** Set by a Catch: what failed. */
  error?: { Error?: string; Cause?: string };
  /** Set by executions of earlier versions of the definition after a task failure. */
  mode?: 'poll' | 'fail';
  /** When a job ended: its final state and the outcomes published in this round (for metrics). */
  result?: { jobState: string; sobject: string; succeeded: number; failed: number };
}

/** Salesforce keeps ingest jobs 7 days; past that there is nothing left to follow. */
export const JOB_LIFETIME_SECONDS = 7 * 24 * 3600;

/** Rounds an execution makes before it hands over to a successor. */
export const POLLS_PER_EXECUTION = 250;

export const STATE_NAMES = {
  wait: 'WaitForJob',
  poll: 'PollJob',
  choice: 'JobFinished',
  handOver: 'HandOver',
  recordFailure: 'RecordFailure',
} as const;

/**
 * The Amazon States Language definition of the bulk job poller.
 *
 * @example
 * const definition = bulkStateMachineDefinition({ pollerFunctionArn: fn.functionArn });
 */
export function bulkStateMachineDefinition(options: { pollerFunctionArn: string }): Record<string, unknown> {
  const lambdaRetry = [
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
    { ErrorEquals: ['States.ALL'], IntervalSeconds: 10, MaxAttempts: 2, BackoffRate: 2 },
  ];
  const recordFailure = [
    { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE_NAMES.recordFailure },
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
        Retry: lambdaRetry,
        Catch: recordFailure,
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
          {
            And: [
              { Variable: '$.stopped', IsPresent: true },
              { Variable: '$.stopped', BooleanEquals: true },
            ],
            Next: 'Stopped',
          },
          { Variable: '$.handOver', IsPresent: true, Next: STATE_NAMES.handOver },
        ],
        Default: STATE_NAMES.wait,
      },
      [STATE_NAMES.handOver]: {
        Type: 'Task',
        Resource: 'arn:aws:states:::states:startExecution',
        Parameters: {
          'StateMachineArn.$': '$$.StateMachine.Id',
          'Name.$': '$.handOver.name',
          'Input.$': '$.handOver.input',
        },
        ResultPath: null,
        Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2 }],
        Catch: recordFailure,
        Next: 'Done',
      },
      [STATE_NAMES.recordFailure]: {
        Type: 'Task',
        Resource: options.pollerFunctionArn,
        Retry: lambdaRetry,
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed' }],
        Next: STATE_NAMES.choice,
      },
      Done: { Type: 'Succeed' },
      Stopped: {
        Type: 'Fail',
        Error: 'BulkJobPollingStopped',
        Cause:
          'The poller kept failing; the failures are recorded on the unit and the sink starts a successor execution.',
      },
      Failed: {
        Type: 'Fail',
        Error: 'BulkJobPollingFailed',
        Cause: 'A failure could not be recorded on the unit; the sink starts a successor execution.',
      },
    },
  };
}

/**
 * The Step Functions API's error codes the local API answers with, as the service names them in
 * `__type` (API reference, each action's "Errors"); the SDK turns each into its exception class.
 */
export const SfnErrorCode = {
  ExecutionAlreadyExists: 'ExecutionAlreadyExists',
  ExecutionDoesNotExist: 'ExecutionDoesNotExist',
  ExecutionNotRedrivable: 'ExecutionNotRedrivable',
  InvalidArn: 'InvalidArn',
  InvalidExecutionInput: 'InvalidExecutionInput',
  InvalidName: 'InvalidName',
  InvalidToken: 'InvalidToken',
  ResourceNotFound: 'ResourceNotFound',
  StateMachineDoesNotExist: 'StateMachineDoesNotExist',
  ValidationException: 'ValidationException',
  UnknownOperationException: 'UnknownOperationException',
  SerializationException: 'SerializationException',
} as const;

export type SfnErrorCode = (typeof SfnErrorCode)[keyof typeof SfnErrorCode];

/** A refused Step Functions API call: `name` is the AWS error code, answered with HTTP 400. */
export class SfnApiError extends Error {
  constructor(code: SfnErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = code;
  }
}

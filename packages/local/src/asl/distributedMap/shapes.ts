/**
 * The ASL fields of a Distributed Map state and the documents it exports, as AWS documents them.
 *
 * Sources (AWS Step Functions Developer Guide):
 * - state-map-distributed.html — fields, "Setting failure thresholds", Label and Map Run ARN;
 * - input-output-itemreader.html, example-csv-parse-dist-map.html — ItemReader and CSV rules;
 * - input-output-itembatcher.html — ItemBatcher and the `{ BatchInput, Items }` child input;
 * - input-output-resultwriter.html — ResultWriter, the state output with ResultWriterDetails,
 *   the result files and the per-execution record ("Transformation NONE" example);
 * - redrive-map-run.html — Map Run redrive.
 */

/** `ReaderConfig` of an ItemReader (input-output-itemreader.html). */
export interface ReaderConfig {
  InputType?: string;
  CSVHeaderLocation?: 'FIRST_ROW' | 'GIVEN';
  CSVHeaders?: string[];
  CSVDelimiter?: 'COMMA' | 'PIPE' | 'SEMICOLON' | 'SPACE' | 'TAB';
  MaxItems?: number;
  MaxItemsPath?: string;
}

export interface ItemReader {
  Resource: string;
  ReaderConfig?: ReaderConfig;
  /** `Bucket`, `Key` (and `VersionId`, ignored locally); may use `.$` paths on the state input. */
  Parameters?: Record<string, unknown>;
}

/** ItemBatcher (input-output-itembatcher.html). */
export interface ItemBatcher {
  MaxItemsPerBatch?: number;
  MaxItemsPerBatchPath?: string;
  MaxInputBytesPerBatch?: number;
  MaxInputBytesPerBatchPath?: string;
  BatchInput?: unknown;
}

export interface ResultWriter {
  Resource: string;
  Parameters?: Record<string, unknown>;
  WriterConfig?: unknown;
}

export interface ItemProcessor {
  ProcessorConfig?: { Mode?: string; ExecutionType?: 'EXPRESS' | 'STANDARD' };
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  Comment?: string;
}

/** A Map state whose ItemProcessor runs in DISTRIBUTED mode, as written in the ASL. */
export interface DistributedMapState {
  Type: 'Map';
  ItemProcessor: ItemProcessor;
  ItemReader?: ItemReader;
  ItemsPath?: string;
  ItemSelector?: Record<string, unknown>;
  /** The older name of ItemSelector in Map states. */
  Parameters?: Record<string, unknown>;
  ItemBatcher?: ItemBatcher;
  MaxConcurrency?: number;
  MaxConcurrencyPath?: string;
  ToleratedFailurePercentage?: number;
  ToleratedFailurePercentagePath?: string;
  ToleratedFailureCount?: number;
  ToleratedFailureCountPath?: string;
  Label?: string;
  ResultWriter?: ResultWriter;
  [field: string]: unknown;
}

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING';

/**
 * One child workflow execution in a result file. Fields and their order follow the
 * "Transformation NONE" example of input-output-resultwriter.html: `Input` and `Output` are JSON
 * strings; a failed execution carries `Error` and `Cause` instead of `Output`.
 */
export interface ExecutionRecord {
  ExecutionArn: string;
  Input: string;
  InputDetails: { Included: boolean };
  Name: string;
  Output?: string;
  Error?: string;
  Cause?: string;
  OutputDetails?: { Included: boolean };
  RedriveCount?: number;
  RedriveStatus?: 'REDRIVABLE' | 'NOT_REDRIVABLE' | 'REDRIVABLE_BY_MAP_RUN';
  RedriveStatusReason?: string;
  StartDate?: string;
  StateMachineArn: string;
  Status: ExecutionStatus;
  StopDate?: string;
}

export interface ResultFile {
  Key: string;
  Size: number;
}

/** `<Prefix>/<map run id>/manifest.json` (input-output-resultwriter.html, "Exporting to Amazon S3"). */
export interface ResultManifest {
  DestinationBucket: string;
  MapRunArn: string;
  ResultFiles: { FAILED: ResultFile[]; PENDING: ResultFile[]; SUCCEEDED: ResultFile[] };
}

/** The Map state's result when ResultWriter exports to S3 (input-output-resultwriter.html). */
export interface ResultWriterOutput {
  MapRunArn: string;
  ResultWriterDetails: { Bucket: string; Key: string };
}

/**
 * A Map Run's items or child executions by status, as DescribeMapRun counts them
 * (API reference, MapRunItemCounts / MapRunExecutionCounts).
 */
export interface MapRunCounts {
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  aborted: number;
  total: number;
  resultsWritten: number;
  failuresNotRedrivable: number;
  pendingRedrive: number;
}

/** A Map Run as it starts (RUNNING) or ends: what ListMapRuns and DescribeMapRun tell of it. */
export interface MapRunReport {
  mapRunArn: string;
  /** The Distributed Map state that ran it. */
  stateName: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  /** Why a FAILED run failed. */
  failure?: { error: string; cause: string };
  /** 0 when the state sets none (no limit). */
  maxConcurrency: number;
  toleratedFailurePercentage: number;
  toleratedFailureCount: number;
  itemCounts: MapRunCounts;
  executionCounts: MapRunCounts;
}

// The little of parquetjs-lite (untyped, unmaintained, CommonJS) the flatten benchmark uses.
declare module 'parquetjs-lite' {
  export interface FieldDefinition {
    type: 'UTF8' | 'INT64' | 'DOUBLE' | 'BOOLEAN';
    optional?: boolean;
    compression?: 'UNCOMPRESSED' | 'GZIP' | 'SNAPPY';
  }
  class ParquetSchema {
    constructor(fields: Record<string, FieldDefinition>);
  }
  class ParquetWriter {
    static openFile(schema: ParquetSchema, path: string): Promise<ParquetWriter>;
    appendRow(row: Record<string, unknown>): Promise<void>;
    close(): Promise<void>;
  }
  const parquet: { ParquetSchema: typeof ParquetSchema; ParquetWriter: typeof ParquetWriter };
  export default parquet;
}

/* SST regenerates this file on `sst dev` / `sst deploy`; it is committed so the handlers
   type-check on machines where SST's platform cannot be installed. `npm run check:aws` fails
   when it does not declare exactly the links stacks/ creates (scripts/check-aws/links.ts). */
import 'sst';

declare module 'sst' {
  export interface Resource {
    Alerts: {
      arn: string;
      type: 'sst.sst.Linkable';
    };
    Breakers: {
      name: string;
      type: 'sst.sst.Linkable';
    };
    Catalog: {
      name: string;
      type: 'sst.sst.Linkable';
    };
    FeatureGroup: {
      arn: string;
      deadLetterQueueUrl: string;
      name: string;
      type: 'sst.sst.Linkable';
    };
    Lake: {
      name: string;
      type: 'sst.sst.Linkable';
    };
    Ledger: {
      name: string;
      type: 'sst.sst.Linkable';
    };
    Watermarks: {
      name: string;
      type: 'sst.sst.Linkable';
    };
  }
}

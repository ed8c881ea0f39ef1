/// <reference path="./.sst/platform/config.d.ts" />

export default $config({
  app(input) {
    return {
      name: 'strata',
      home: 'aws',
      removal: input?.stage === 'prod' ? 'retain' : 'remove',
      protect: input?.stage === 'prod',
    };
  },
  async run() {
    const storage = await import('./stacks/storage');
    const catalog = await import('./stacks/catalog');
    const features = await import('./stacks/features');
    const pipeline = await import('./stacks/pipeline');
    const backfill = await import('./stacks/backfill');
    const monitoring = await import('./stacks/monitoring');
    return {
      lake: storage.lake.bucket,
      catalog: catalog.database.name,
      featureGroup: features.featureGroup.featureGroupName,
      pipeline: pipeline.pipeline.arn,
      backfill: backfill.backfill.arn,
      deadLetterQueue: pipeline.deadLetterQueue.url,
      alertTopic: pipeline.alertTopic.arn,
      dashboard: monitoring.dashboard.dashboardName,
    };
  },
});

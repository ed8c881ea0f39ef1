// The Glue Data Catalog database Athena queries silver and gold through. Tables are registered
// per dataset by later stages (schema evolution owns them), so only the database lives here.

export const database = new aws.glue.CatalogDatabase('Catalog', {
  name: `strata_${$app.stage.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`,
  description: 'Strata lake: silver and gold datasets',
});

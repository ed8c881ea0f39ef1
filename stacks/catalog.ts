// The Glue Data Catalog database Athena queries silver and gold through. Tables are registered
// per dataset by the stages that own their schema (Reconcile upserts each feed's silver table,
// with partition projection), so only the database lives here.

export const database = new aws.glue.CatalogDatabase('Catalog', {
  name: `strata_${$app.stage.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`,
  description: 'Strata lake: silver and gold datasets',
});

/** What handlers see as `Resource.Catalog`: the database's name. Linking it grants nothing. */
export const catalogLink = new sst.Linkable('Catalog', { properties: { name: database.name } });

/**
 * Glue calls on the database's tables and nothing else: the catalog, the database and
 * `table/<db>/*` ARNs, as Glue authorizes table actions on all three.
 *
 * @param actions - e.g. `glue:GetTable`
 * @param table - one table's name, to grant that table only
 */
export const catalogAccess = (actions: string[], table = '*') => ({
  actions,
  resources: [
    database.arn.apply((arn) => arn.replace(/:database\/.*$/, ':catalog')),
    database.arn,
    database.arn.apply((arn) => `${arn.replace(':database/', ':table/')}/${table}`),
  ],
});

"""Order execution: the `Venue` interface (`venue`), the paper venue (`paper`), the CLOB V2 venue (`clob_venue`, on
its authenticated transport `clob_auth`, the signing libraries `signing_libs`, `credentials` from the venue
secret and the live `preflight`), and the exactly-once protocol with its reconciliation (`protocol`,
`reconcile`)."""

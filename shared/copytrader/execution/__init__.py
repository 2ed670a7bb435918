"""Order execution: the `Venue` interface (`venue`), the paper venue (`paper`), the CLOB V2 venue on the
polymarket-client SDK (`clob_venue`, its orders `clob_order`, its SDK client `clob_session`, the signing libraries
`signing_libs`, `credentials` from the venue secret, the cold-start `preflight` and the per-BUY wallet check `funds`),
and the exactly-once protocol with its reconciliation (`protocol`, `reconcile`)."""

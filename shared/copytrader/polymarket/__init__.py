"""Polymarket's interfaces (see ../shared/polymarket/REFERENCE.md): payload parsers that do no I/O (`gamma`,
`rtds`, `chain`, `data_api.rows`), the clients that do (`http` and `rest` for the pipeline's reads,
`data_api.client` with its `data_api.rate_limit`), and token -> market resolution through Gamma (`tokens`)."""

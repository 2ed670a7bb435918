"""Order execution: the `Venue` interface, the paper venue, and the exactly-once protocol."""

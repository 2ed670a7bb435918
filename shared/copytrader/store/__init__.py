"""DynamoDB state: the table definitions (`tables`), their provisioning (`provisioning`) and the operations on them."""

from copytrader.store.provisioning import TABLES, TableSpec, create_tables, rebind
from copytrader.store.tables import MODELS

__all__ = ["MODELS", "TABLES", "TableSpec", "create_tables", "rebind"]

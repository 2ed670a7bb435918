"""Risk, pure: the rules every order and the account obey, and the account book that applies them.

- `rules`: reservation thresholds (`screen`), the cap scopes, the breaker and drawdown floors, stop-losses;
- `affordability`: an order's worst-case cost and the room it has under every cap;
- `changes`: what each settlement (fill, sell, redemption, release) changes in the account, computed once;
- `book`: `AccountBook`, the account in memory, applying `changes` under `rules`.

The DynamoDB store (`copytrader.store.account`) writes the same `changes` under the same `rules` as conditional
writes, so limits hold under concurrency.
"""

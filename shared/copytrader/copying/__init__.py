"""The copy decision, pure: is this whale fill worth copying, and how much of it.

- `decision`: the score step's filters, cheapest first, each with its reason (`decide`);
- `conflicts`: whale stances and the conflict policies between whales on opposite sides;
- `pricing`: the drift-capped limit price and the largest stake a sizing mode allows;
- `sizing`: the hierarchical Beta-posterior win probability and fractional Kelly at the executable cost.

What an order may cost at worst and the room under the caps are `copytrader.risk.affordability`.
"""

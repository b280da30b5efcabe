"""Store analytics from the tracks already computed: where people stand, how long they stay,
how many cross the counting lines, how long the checkout queues are. Aggregates only."""

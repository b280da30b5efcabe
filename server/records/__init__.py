"""Typed records that cross stage boundaries; every stage imports them, none imports another
stage for them: `video` (what cameras give), `people` (what pose, tracking and the behaviour
model make of it), `analysis` (one camera frame's whole result, as the chain publishes it),
`alerts` (what alerting decided)."""

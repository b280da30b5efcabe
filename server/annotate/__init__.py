"""Drawing what the system sees over video: people's boxes, skeletons, ids and scores."""

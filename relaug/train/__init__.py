"""Fine-tuning CLIP on relaug shards: shard reader -> groups, losses, the training loop."""

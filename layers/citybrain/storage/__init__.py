"""DynamoDB, S3 and SQS behind small repositories (one module per aggregate)."""

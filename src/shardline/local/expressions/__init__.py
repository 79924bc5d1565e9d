"""DynamoDB expressions."""

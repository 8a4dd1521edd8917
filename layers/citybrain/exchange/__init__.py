"""Data exchange between departments (数据共享交换): the catalog, records and
their versions, access requests and grants, masked pulls, the tamper-evident
audit chain and the exchange statistics.

Modules here hold the rules; the DynamoDB side lives in
citybrain.storage.exchange_*; the HTTP side in functions/exchange.py."""

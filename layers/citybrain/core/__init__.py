"""What every feature stands on: settings, AWS clients, the DynamoDB codec and
batched access, errors, input rules, paging, time, retries, observability, the
district's vocabularies and the rejections every feature keeps."""

"""The only package that imports boto3: one session, one reader, one writer, one error map."""

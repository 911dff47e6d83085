"""A local AWS-compatible endpoint: moto's server plus the CloudFront Functions calls moto lacks.

`server.start()` / `server.serve()` run it, `seeding.seed()` fills it from a `Desired`,
`faults.Faults` injects failures. The only package besides `aws/` that imports boto3 and moto.
"""

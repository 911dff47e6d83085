"""Edge reconciler: keeps CloudFront Functions, SSM release pointers and jobs.json equal to git."""

__version__ = "0.1.0"

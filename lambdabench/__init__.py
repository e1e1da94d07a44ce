"""lambdabench: tune AWS Lambda memory and timeout with true numbers."""

__version__ = "0.1.0"

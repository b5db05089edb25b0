"""`python_synthetics_canary`: a CloudWatch Synthetics Python canary zip, built by Pants."""

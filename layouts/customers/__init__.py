"""Customer pages: My queue, customers grid, customer detail, churn risk."""

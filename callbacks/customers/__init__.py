"""Customer pages' callbacks: My queue, customers grid, customer detail, churn risk."""

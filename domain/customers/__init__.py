"""domain/customers"""

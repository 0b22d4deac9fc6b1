"""domain/alerting"""

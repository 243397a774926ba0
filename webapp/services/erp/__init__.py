"""ERP services: master data, lots, the ledger, receipts, shipments, UDI, trace and imports.

Every function that changes state runs one transaction (uow.transaction) and writes its audit
events inside it; a guard refusal (errors.GuardRefused) rolls back and is audited on its own.
"""

"""The partner registry: organisations and their contacts, kept by the Secretariat (pages in partners.routes)."""

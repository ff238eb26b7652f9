"""The application shell: configuration, extensions, sign-in, errors and security headers shared by every domain."""

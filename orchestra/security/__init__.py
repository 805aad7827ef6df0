"""Cluster security: the CA and certificates (ca.py, plane_pki.py), join tokens (tokens.py,
join.py, enrolment.py), who may call what (identity.py, access.py), the CLI's client config
(client_config.py), the container security policy (policy.py) and the admin commands
(command.py, service.py). plane_security.py assembles the plane's part in one call."""

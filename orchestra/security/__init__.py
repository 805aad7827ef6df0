"""Cluster security.

Modules: the CA and certificates (ca.py, plane_pki.py), join tokens (tokens.py, join.py,
enrolment.py), who may call what (identity.py, access.py), the CLI's client config
(client_config.py), the container security policy (policy.py) and the admin commands
(command.py, service.py). plane_security.py assembles the plane's part in one call.

Threat model. The network between CLI, plane and agents is hostile: anyone may connect to the
plane's port, read or alter traffic. Defences: one TLS port only, client certificate required
at the handshake; certificates from the cluster CA carry a role (OU) and a name (CN); an
interceptor lets `admin` call the API, `node` only AgentLink.Session (as the node its CN
names), and anyone else only AgentLink.Join, which needs a join token (secret stored hashed,
expiring, revocable). Agents pin the CA from the token before sending its secret. Revoked
certificate serials are refused from the next call. Containers run with no-new-privileges,
a pids limit, all capabilities dropped but a short list; privileged mode and host mounts do not
exist in the manifest, dangerous capabilities need the operator's --allow-capability.
Trusted: the plane's host and data dir (it holds the CA key), the agent's host (root there
owns the node key), dockerd.

Rotating. Tokens: `orchestra token create`, hand out the new one, `orchestra token revoke <id>`
(joined nodes keep working). CA: stop the plane, move `<data dir>/pki` away, start it: it makes
a new CA, serving and admin certificates, admin.conf and node-token; restart each agent with a
token of the new CA (it notices the token pins another CA and joins again). Old certificates
stop working at once: there is no overlap period.
"""

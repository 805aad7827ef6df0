"""The service data path of a node (docs/internals.md, Services): names resolve to virtual
addresses (dns), connections to them are proxied to the services' ready endpoints (proxy),
local ones directly and remote ones through their node's relay (relay). Imported only by an
agent that routes services; datapath.DataPath ties the parts together."""

from policyengine.lsp.server import serve

serve()

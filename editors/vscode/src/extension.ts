// Starts `policyengine lsp` (or the command set in `policyengine.server.command`) for
// policy and model files; every feature beyond colours comes from the server.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const configured = vscode.workspace
    .getConfiguration("policyengine")
    .get<string[]>("server.command", ["policyengine", "lsp"]);
  const [command, ...args] = configured.length > 0 ? configured : ["policyengine", "lsp"];
  const server: ServerOptions = { command, args };
  const options: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "policyengine" }],
  };
  client = new LanguageClient("policyengine", "policyengine", server, options);
  context.subscriptions.push(client);
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

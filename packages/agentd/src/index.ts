export { createAgentServer, type AgentServer, type AgentServerOptions } from "./agent-server.js";

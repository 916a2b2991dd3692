export {
  createAgentClient,
  waitForAgent,
  type AgentClient,
  type AgentClientOptions,
  type AgentFile,
  type WaitForAgentOptions,
} from "./agent-client.js";

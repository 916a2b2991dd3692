import { processStreamsSuite } from "./process-streams-suite.js";

processStreamsSuite("local");

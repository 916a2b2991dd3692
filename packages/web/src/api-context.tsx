import { createContext, useContext } from "react";
import type { WhoAmI } from "@ciab/protocol";
import type { ApiClient } from "./api/api-client.js";

export interface SignedIn {
  api: ApiClient;
  whoami: WhoAmI;
}

export const ApiContext = createContext<SignedIn | undefined>(undefined);

/** The signed-in client; pages render only inside the signed-in layout. */
export function useApi(): SignedIn {
  const signedIn = useContext(ApiContext);
  if (signedIn === undefined) throw new Error("useApi outside the signed-in layout");
  return signedIn;
}

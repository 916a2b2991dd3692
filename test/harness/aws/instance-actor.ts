import { InstanceContainer, type BootRecord, type InstanceSeed } from "./instance-container.js";

/** What moto says an instance should be, reduced to what a container can be. */
export type DesiredState = "running" | "stopped" | "terminated";
/** What the instance's container is. */
export type ContainerState = "none" | "booting" | "running" | "stopped" | "removed";

/** One played instance as tests see it. */
export interface PlayedInstance {
  instanceID: string;
  imageID: string;
  privateIP: string | undefined;
  /** moto's state name at the last poll. */
  motoState: string;
  containerState: ContainerState;
  /** Docker's name for the container, once it exists. */
  container: string | undefined;
  /** sshd can serve a connection: the host keys exist and the container runs. */
  sshReady: boolean;
  boots: BootRecord[];
  /** How many times the container was started: a start brings a fresh /dev, which devices are played into anew. */
  starts: number;
  /** The last thing that went wrong while following moto; the instance is then left as it was. */
  error: string | undefined;
}

export interface InstanceActorDependencies {
  /** Reads the instance's current user-data and the Docker image its AMI maps to. */
  prepareBoot(instanceID: string, signal: AbortSignal): Promise<{ seed: InstanceSeed; image: string }>;
  /** Holds one of the few boot slots while `boot` runs: cloud-init is CPU-bound on a small machine. */
  withBootSlot<T>(boot: () => Promise<T>): Promise<T>;
  containerName: string;
  labels: Record<string, string>;
  /** Called after every change, so waiters can look again. */
  changed(): void;
}

/**
 * Brings one instance's container to the state moto reports, one step at a time and never two at once.
 * A boot in progress is aborted when moto says stop or terminate, so the step after it is not held up.
 */
export class InstanceActor {
  readonly view: PlayedInstance;
  private desired: DesiredState = "running";
  private container: InstanceContainer | undefined;
  private working: Promise<void> | undefined;
  private bootAbort: AbortController | undefined;
  private closed = false;

  constructor(
    instanceID: string,
    imageID: string,
    private readonly dependencies: InstanceActorDependencies,
  ) {
    this.view = {
      instanceID,
      imageID,
      privateIP: undefined,
      motoState: "pending",
      containerState: "none",
      container: undefined,
      sshReady: false,
      boots: [],
      starts: 0,
      error: undefined,
    };
  }

  /** Records what moto reports and starts working towards it. */
  follow(motoState: string, privateIP: string | undefined): void {
    this.view.motoState = motoState;
    this.view.privateIP = privateIP ?? this.view.privateIP;
    this.desired = desiredStateOf(motoState);
    if (this.desired !== "running") this.bootAbort?.abort(new Error(`instance is ${motoState}`));
    this.kick();
  }

  /** Stops following moto and removes the container; the instance stays removed. */
  async close(): Promise<void> {
    this.closed = true;
    this.bootAbort?.abort(new Error("player closed"));
    await this.working;
    await this.container?.remove();
    this.set({ containerState: "removed", container: undefined, sshReady: false });
  }

  private kick(): void {
    if (this.working || this.closed || this.view.error) return;
    this.working = this.work().finally(() => {
      this.working = undefined;
      if (this.needsStep()) this.kick();
    });
  }

  private needsStep(): boolean {
    if (this.closed || this.view.error) return false;
    const state = this.view.containerState;
    if (this.desired === "terminated") return state !== "removed";
    if (this.desired === "stopped") return state === "running";
    return state === "none" || state === "stopped";
  }

  private async work(): Promise<void> {
    try {
      while (this.needsStep()) await this.step();
    } catch (error) {
      if (!this.closed) this.set({ error: (error as Error).message });
    }
  }

  private async step(): Promise<void> {
    if (this.desired === "terminated") {
      await this.container?.remove();
      return this.set({ containerState: "removed", container: undefined, sshReady: false });
    }
    if (this.desired === "stopped") {
      await this.container!.stop();
      return this.set({ containerState: "stopped", sshReady: false });
    }
    await this.boot();
  }

  private async boot(): Promise<void> {
    const abort = new AbortController();
    this.bootAbort = abort;
    try {
      await this.dependencies.withBootSlot(async () => {
        const { seed, image } = await this.dependencies.prepareBoot(this.view.instanceID, abort.signal);
        this.container ??= new InstanceContainer(this.dependencies.containerName, image, this.dependencies.labels);
        const number = this.view.boots.length + 1;
        this.set({ containerState: "booting", container: this.container.name, starts: this.view.starts + 1 });
        const record = await this.container.boot(seed, number, abort.signal, (stage) => {
          if (stage.name === "init") this.set({ sshReady: true });
        });
        this.view.boots.push(record);
        this.set({ containerState: "running" });
      });
    } catch (error) {
      if (!abort.signal.aborted) throw error;
      // Stopped or terminated mid-boot: the container may have started, and the next step stops or removes it.
      this.set({ containerState: this.view.containerState === "booting" ? "running" : this.view.containerState });
    } finally {
      this.bootAbort = undefined;
    }
  }

  private set(change: Partial<PlayedInstance>): void {
    Object.assign(this.view, change);
    this.dependencies.changed();
  }
}

function desiredStateOf(motoState: string): DesiredState {
  if (motoState === "pending" || motoState === "running") return "running";
  if (motoState === "stopping" || motoState === "stopped") return "stopped";
  return "terminated";
}

import { CiabError } from "@ciab/protocol";
import type { ImageBuildRecord, ImageBuildState, ImageRecord } from "../image-records.js";
import type { ImageBuildRepository, ImageRepository } from "../image-repositories.js";
import type { DynamoTable } from "./dynamodb-table.js";
import { byID, createItem, fromItem, mainKey, modify, type ItemLayout } from "./dynamodb-items.js";

const buildLayout: ItemLayout<ImageBuildRecord> = {
  kind: "image-build",
  keys: (record) => ({
    ...mainKey("image-build", record.id),
    gsi1pk: `image-build#${record.workspaceID}`,
    gsi1sk: record.id,
    gsi2pk: `image-build-state#${record.state}`,
    gsi2sk: record.id,
  }),
};

const imageLayout: ItemLayout<ImageRecord> = {
  kind: "image",
  keys: (record) => ({ ...mainKey("image", record.id), gsi1pk: `image#${record.workspaceID}`, gsi1sk: record.id }),
};

export function createImageBuildRepository(table: DynamoTable): ImageBuildRepository {
  const key = (id: string) => mainKey("image-build", id);
  const byStates = async (states: readonly ImageBuildState[]) => {
    const lists = await Promise.all(states.map((state) => table.query({ index: "gsi2", partition: `image-build-state#${state}` })));
    return lists.flat().map((item) => fromItem<ImageBuildRecord>(item)).sort(byID);
  };
  return {
    async create(record) {
      if (!(await createItem(table, buildLayout, record))) throw new CiabError("already_exists", `image build ${record.id} exists`);
    },
    async get(workspaceID, id) {
      const item = await table.get(key(id));
      return item && item.workspaceID === workspaceID ? fromItem<ImageBuildRecord>(item) : undefined;
    },
    listAll: byStates,
    async findActive(dedupKey) {
      return (await byStates(["queued", "building"])).find((build) => build.dedupKey === dedupKey);
    },
    async update(id, patch) {
      const updated = await modify(table, buildLayout, key(id), (): Partial<ImageBuildRecord> => patch);
      if (!updated) throw new CiabError("not_found", `image build ${id} not found`);
      return updated;
    },
  };
}

export function createImageRepository(table: DynamoTable): ImageRepository {
  const key = (id: string) => mainKey("image", id);
  return {
    async create(record) {
      if (!(await createItem(table, imageLayout, record))) throw new CiabError("already_exists", `image ${record.id} exists`);
    },
    async get(workspaceID, id) {
      const item = await table.get(key(id));
      return item && item.workspaceID === workspaceID ? fromItem<ImageRecord>(item) : undefined;
    },
    async list(workspaceID, filter) {
      const items = await table.query({
        index: "gsi1",
        partition: `image#${workspaceID}`,
        limit: filter.limit,
        keep: (item) =>
          (filter.region === undefined || item.region === filter.region) &&
          (filter.provider === undefined || item.provider === filter.provider) &&
          (filter.runtime === undefined || item.runtime === filter.runtime),
      });
      return items.map((item) => fromItem<ImageRecord>(item));
    },
    delete(workspaceID, id) {
      return table.delete(key(id), { expression: "#ws = :ws", names: { "#ws": "workspaceID" }, values: { ":ws": workspaceID } });
    },
  };
}

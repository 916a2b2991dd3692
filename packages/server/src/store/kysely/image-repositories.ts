import type { Kysely } from "kysely";
import type { ImageBuildRecord, ImageRecord } from "../image-records.js";
import type { ImageBuildRepository, ImageRepository } from "../image-repositories.js";
import type { Tables } from "./tables.js";

export interface ImageBuildRow {
  id: string;
  workspace_id: string;
  user_id: string;
  state: string;
  runtime: string;
  provider: string;
  region: string | null;
  instance_type: string | null;
  template: string;
  vars: string;
  dedup_key: string;
  step: string | null;
  percent: number | null;
  image_id: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface ImageRow {
  id: string;
  workspace_id: string;
  user_id: string;
  build_id: string;
  runtime: string;
  provider: string;
  region: string | null;
  reference: string;
  name: string | null;
  created_at: string;
}

function toBuild(row: ImageBuildRow): ImageBuildRecord {
  return {
    id: row.id,
    workspaceID: row.workspace_id,
    userID: row.user_id,
    state: row.state as ImageBuildRecord["state"],
    runtime: row.runtime as ImageBuildRecord["runtime"],
    provider: row.provider,
    region: row.region,
    instanceType: row.instance_type,
    template: row.template,
    vars: JSON.parse(row.vars) as Record<string, string>,
    dedupKey: row.dedup_key,
    step: row.step,
    percent: row.percent,
    imageID: row.image_id,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

function toImage(row: ImageRow): ImageRecord {
  return {
    id: row.id,
    workspaceID: row.workspace_id,
    userID: row.user_id,
    buildID: row.build_id,
    runtime: row.runtime as ImageRecord["runtime"],
    provider: row.provider,
    region: row.region,
    reference: row.reference,
    name: row.name,
    createdAt: row.created_at,
  };
}

export function createImageBuildRepository(db: Kysely<Tables>): ImageBuildRepository {
  return {
    async create(record) {
      await db
        .insertInto("image_builds")
        .values({
          id: record.id,
          workspace_id: record.workspaceID,
          user_id: record.userID,
          state: record.state,
          runtime: record.runtime,
          provider: record.provider,
          region: record.region,
          instance_type: record.instanceType,
          template: record.template,
          vars: JSON.stringify(record.vars),
          dedup_key: record.dedupKey,
          step: record.step,
          percent: record.percent,
          image_id: record.imageID,
          error: record.error,
          created_at: record.createdAt,
          started_at: record.startedAt,
          finished_at: record.finishedAt,
        })
        .execute();
    },
    async get(workspaceID, id) {
      const row = await db.selectFrom("image_builds").selectAll().where("workspace_id", "=", workspaceID).where("id", "=", id).executeTakeFirst();
      return row && toBuild(row);
    },
    async listAll(states) {
      const rows = await db.selectFrom("image_builds").selectAll().where("state", "in", states).orderBy("id").execute();
      return rows.map(toBuild);
    },
    async findActive(dedupKey) {
      const row = await db.selectFrom("image_builds").selectAll().where("dedup_key", "=", dedupKey).where("state", "in", ["queued", "building"]).executeTakeFirst();
      return row && toBuild(row);
    },
    async update(id, patch) {
      const values: Partial<ImageBuildRow> = {};
      if (patch.state !== undefined) values.state = patch.state;
      if (patch.step !== undefined) values.step = patch.step;
      if (patch.percent !== undefined) values.percent = patch.percent;
      if (patch.imageID !== undefined) values.image_id = patch.imageID;
      if (patch.error !== undefined) values.error = patch.error;
      if (patch.startedAt !== undefined) values.started_at = patch.startedAt;
      if (patch.finishedAt !== undefined) values.finished_at = patch.finishedAt;
      const row = await db.updateTable("image_builds").set(values).where("id", "=", id).returningAll().executeTakeFirstOrThrow();
      return toBuild(row);
    },
  };
}

export function createImageRepository(db: Kysely<Tables>): ImageRepository {
  return {
    async create(record) {
      await db
        .insertInto("images")
        .values({
          id: record.id,
          workspace_id: record.workspaceID,
          user_id: record.userID,
          build_id: record.buildID,
          runtime: record.runtime,
          provider: record.provider,
          region: record.region,
          reference: record.reference,
          name: record.name,
          created_at: record.createdAt,
        })
        .execute();
    },
    async get(workspaceID, id) {
      const row = await db.selectFrom("images").selectAll().where("workspace_id", "=", workspaceID).where("id", "=", id).executeTakeFirst();
      return row && toImage(row);
    },
    async list(workspaceID, filter) {
      let query = db.selectFrom("images").selectAll().where("workspace_id", "=", workspaceID);
      if (filter.region !== undefined) query = query.where("region", "=", filter.region);
      if (filter.provider !== undefined) query = query.where("provider", "=", filter.provider);
      if (filter.runtime !== undefined) query = query.where("runtime", "=", filter.runtime);
      const rows = await query.orderBy("id").limit(filter.limit).execute();
      return rows.map(toImage);
    },
    async delete(workspaceID, id) {
      const result = await db.deleteFrom("images").where("workspace_id", "=", workspaceID).where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

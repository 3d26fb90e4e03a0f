//! Artifacts through an `imx server` (see `server::routes_artifacts`): uploads stream the file
//! as the request body, downloads stream the response body; nothing is held whole in memory.

use futures_util::StreamExt;
use reqwest::Method;

use super::{NO_QUERY, RemoteControlPlane};
use crate::Result;
use crate::artifacts::ByteStream;
use crate::control::wire::LeaseQuery;
use crate::model::{Artifact, ArtifactPrune, ArtifactPruneReport, LeaseRef};

fn lease_query(lease: &LeaseRef, path: Option<&str>) -> LeaseQuery {
    LeaseQuery {
        attempt: lease.attempt,
        agent: lease.agent_id.clone(),
        path: path.map(str::to_string),
    }
}

impl RemoteControlPlane {
    /// A response's body as a stream.
    fn body_stream(resp: reqwest::Response) -> ByteStream {
        Box::pin(
            resp.bytes_stream()
                .map(|r| r.map_err(std::io::Error::other)),
        )
    }

    pub(super) async fn remote_upload_artifact(
        &self,
        lease: &LeaseRef,
        path: &str,
        body: ByteStream,
    ) -> Result<Artifact> {
        let req = self
            .request(
                Method::PUT,
                &["runs", &lease.run_id, "steps", &lease.step_id, "artifacts"],
            )
            .query(&lease_query(lease, Some(path)))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(body));
        self.send(req).await
    }

    pub(super) async fn remote_lease_artifacts(&self, lease: &LeaseRef) -> Result<Vec<Artifact>> {
        self.get(
            &["runs", &lease.run_id, "steps", &lease.step_id, "inputs"],
            &lease_query(lease, None),
        )
        .await
    }

    pub(super) async fn remote_download_lease_artifact(
        &self,
        lease: &LeaseRef,
        id: &str,
    ) -> Result<ByteStream> {
        let req = self
            .request(
                Method::GET,
                &["runs", &lease.run_id, "steps", &lease.step_id, "inputs", id],
            )
            .query(&lease_query(lease, None));
        Ok(Self::body_stream(self.send_raw(req).await?))
    }

    pub(super) async fn remote_list_artifacts(&self, run: &str) -> Result<Vec<Artifact>> {
        self.get(&["runs", run, "artifacts"], &NO_QUERY).await
    }

    pub(super) async fn remote_download_artifact(
        &self,
        run: &str,
        what: &str,
    ) -> Result<(Artifact, ByteStream)> {
        let all = self.remote_list_artifacts(run).await?;
        let found = crate::artifacts::find(&all, run, what)?;
        let resp = self
            .send_raw(self.request(Method::GET, &["runs", run, "artifacts", &found.id]))
            .await?;
        Ok((found, Self::body_stream(resp)))
    }

    pub(super) async fn remote_prune_artifacts(
        &self,
        req: ArtifactPrune,
    ) -> Result<ArtifactPruneReport> {
        self.post(&["artifacts", "prune"], &req).await
    }
}

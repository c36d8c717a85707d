#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  MPI_Init(&argc,&argv); int r,p; MPI_Comm_rank(MPI_COMM_WORLD,&r); MPI_Comm_size(MPI_COMM_WORLD,&p);
  int n = argc>1? atoi(argv[1]) : 118282; int reps=2000;
  float *buf = malloc(sizeof(float)*n), *half=malloc(sizeof(float)*n);
  for(int i=0;i<n;i++) buf[i]=1e-3f*i;
  double *t=malloc(sizeof(double)*reps);
  for(int mode=0; mode<2; mode++){
    for(int k=0;k<reps;k++){
      MPI_Barrier(MPI_COMM_WORLD);
      double t0=MPI_Wtime();
      if(mode==0) MPI_Allreduce(MPI_IN_PLACE,buf,n,MPI_FLOAT,MPI_SUM,MPI_COMM_WORLD);
      else { int c=n/p; MPI_Reduce_scatter_block(buf,half,c,MPI_FLOAT,MPI_SUM,MPI_COMM_WORLD); MPI_Allgather(half,c,MPI_FLOAT,buf,c,MPI_FLOAT,MPI_COMM_WORLD); }
      t[k]=MPI_Wtime()-t0;
      for(int i=0;i<n;i+=1024) buf[i]*=0.5f;
    }
    qsort(t,reps,sizeof(double),cmp);
    if(r==0) printf("%s n=%d: median %.1f us, min %.1f us, p90 %.1f us\n", mode==0?"Allreduce":"ReduceScatter+Allgather", n, t[reps/2]*1e6, t[0]*1e6, t[reps*9/10]*1e6);
  }
  MPI_Finalize(); return 0;
}

#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <immintrin.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int secs=atoi(argv[1]);
  __m512 a[8];for(int i=0;i<8;i++)a[i]=_mm512_set1_ps(1.0f+i*1e-7f);
  __m512 b=_mm512_set1_ps(0.9999999f),c=_mm512_set1_ps(1e-7f);
  double t0=now(),tl=t0;long n=0;
  while(now()-t0<secs){
    for(int k=0;k<100000;k++){for(int i=0;i<8;i++)a[i]=_mm512_fmadd_ps(a[i],b,c);}
    n++;
    double t=now(); if(t-tl>=0.5){printf("%.1f %.1f\n",t-t0,n*100000.0*8*32/(t-tl)/1e9);fflush(stdout);n=0;tl=t;}
  }
  float s=0;for(int i=0;i<8;i++)s+=_mm512_reduce_add_ps(a[i]);return s==12345;
}
